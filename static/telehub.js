// The little JavaScript the pages use: focus an error summary, copy a feed URL, and give each
// table cell its column's name, which a phone shows when the table stacks into cards.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-autofocus]");
  if (summary) summary.focus();
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      await navigator.clipboard.writeText(source.value || source.textContent);
      button.textContent = "Copied";
    });
  }
  for (const table of document.querySelectorAll("main table")) {
    const heads = [...table.querySelectorAll("thead th")].map(
      (th) => (th.querySelector(".visually-hidden") || th).textContent.trim());
    for (const row of table.querySelectorAll("tbody tr, tfoot tr")) {
      [...row.children].forEach((cell, i) => {
        if (heads[i] && !cell.dataset.label) cell.dataset.label = heads[i];
      });
    }
  }
});

// A questionnaire (PHQ-9, GAD-7) shows its score and severity as it is answered, and the
// PHQ-9 says at once when question 9 will raise the safety flag. The bands come from the
// server (data-bands, care/rules.py); the server computes the score again when it is saved.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-questionnaire]")) {
    const bands = JSON.parse(form.dataset.bands);
    const max = Number(form.dataset.max);
    const out = form.querySelector("[data-score]");
    const warning = form.querySelector("[data-safety-warning]");
    const items = form.querySelectorAll("fieldset.item");
    const update = () => {
      let score = 0;
      let answered = 0;
      items.forEach((item) => {
        const chosen = item.querySelector("input[type=radio]:checked");
        if (chosen) {
          score += Number(chosen.value);
          answered += 1;
        }
      });
      if (warning) {
        const safety = items[Number(form.dataset.safetyItem) - 1];
        const chosen = safety && safety.querySelector("input[type=radio]:checked");
        warning.hidden = !(chosen && Number(chosen.value) > 0);
      }
      if (answered === items.length) {
        const band = bands.find(([lowest]) => score >= lowest);
        out.textContent = `Score: ${score} of ${max}, ${band ? band[1].toLowerCase() : ""}`;
      } else if (answered > 0) {
        out.textContent = `Score so far: ${score} (${answered} of ${items.length} answered)`;
      }
    };
    form.addEventListener("change", update);
    update();
  }
});

// The booking page holds the chosen time for the clinic (scheduling/holds.py). Leaving the
// page lets it go, as the Cancel button does: the release form is sent as a beacon. Steps of
// the same booking (finding the patient, the Book button, a link that keeps the hold) keep it.
document.addEventListener("DOMContentLoaded", () => {
  const release = document.querySelector("form[data-hold-release]");
  if (!release) return;
  const holdId = new FormData(release).get("hold_id");
  let keeping = false;
  document.addEventListener("submit", () => { keeping = true; });
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[href]");
    if (link && holdId && link.href.includes(`hold_id=${holdId}`)) keeping = true;
  });
  window.addEventListener("pagehide", () => {
    if (!keeping && navigator.sendBeacon) navigator.sendBeacon(release.action, new FormData(release));
  });
});
