// The printout's Print button: it opens the browser's print dialog (hidden on paper by CSS).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("print-note");
  if (button) {
    button.addEventListener("click", () => window.print());
  }
});
