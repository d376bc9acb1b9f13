// The booking page's patient search, as you type: the plain form works without this; with it,
// the matches are asked for (an HTML fragment from the spoke_patient_search route) and shown
// under the box a moment after each keystroke. Only the newest answer is shown.
document.addEventListener("DOMContentLoaded", () => {
  const input = document.getElementById("find-patient");
  const shown = document.getElementById("patient-matches");
  const form = input && input.form;
  if (!form || !shown || !form.dataset.matches) return;
  let waiting = null;
  let asked = 0;
  input.addEventListener("input", () => {
    clearTimeout(waiting);
    waiting = setTimeout(async () => {
      const mine = ++asked;
      const query = new URLSearchParams(new FormData(form));
      try {
        const answer = await fetch(`${form.dataset.matches}?${query}`, {
          credentials: "same-origin",
          headers: { Accept: "text/html" },
        });
        // A signed-out session is redirected to sign in: keep what is shown.
        if (!answer.ok || answer.redirected || mine !== asked) return;
        const html = await answer.text();
        if (mine === asked) shown.innerHTML = html;
      } catch {
        // Offline or refused: the Find button still works.
      }
    }, 250);
  });
});
