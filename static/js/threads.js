// "Show N more replies": without this script the link opens the thread in full on its own page;
// with it, that page is fetched and its thread takes the shortened one's place, focus on the
// first reply that was not shown.
"use strict";

document.addEventListener("click", async (event) => {
  const link = event.target.closest("a[data-thread-more]");
  if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  const item = link.closest(".thread > .thread__item");
  const root = item && item.querySelector("article.comment");
  if (!root) return;
  event.preventDefault();
  const shown = new Set(Array.from(item.querySelectorAll("article.comment"), (a) => a.id));
  link.setAttribute("aria-disabled", "true");
  try {
    const response = await fetch(link.href, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const fetched = page.getElementById(root.id);
    const full = fetched && fetched.closest(".thread__item");
    if (!full) throw new Error("thread not found");
    const adopted = document.adoptNode(full);
    item.replaceWith(adopted);
    const first = Array.from(adopted.querySelectorAll("article.comment")).find((a) => !shown.has(a.id));
    if (first) {
      first.tabIndex = -1;
      first.focus();
    }
  } catch (error) {
    // Whatever went wrong, the page that shows the thread still does.
    window.location.assign(link.href);
  }
});
