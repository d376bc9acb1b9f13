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
