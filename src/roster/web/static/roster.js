// roster's web UI: a little plain JavaScript, no build step (docs/web.md). Everything works
// without it except what needs a call in the background: the CSV export's progress.
"use strict";

// Forms marked data-confirm ask first, saying what they will do.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// Export CSV: the export API with this session (its CSRF token beside the cookie), then the
// signed download link.
async function exportPeople(box) {
  const status = box.querySelector("#export-status");
  const button = box.querySelector("#export-csv");
  const headers = { "Content-Type": "application/json", "X-CSRF-Token": box.dataset.csrf };
  const filter = box.dataset.filter;
  const body = filter ? JSON.stringify({ filters: JSON.parse(filter) }) : "{}";
  button.disabled = true;
  status.textContent = "Preparing the export…";
  try {
    const made = await fetch("/v1/exports/customers", { method: "POST", headers, body, credentials: "same-origin" });
    if (!made.ok) throw new Error((await made.json()).message || made.statusText);
    const exported = (await made.json()).export;
    status.textContent = `Exporting ${exported.total} ${exported.total === 1 ? "person" : "people"}…`;
    const linked = await fetch(`/v1/exports/${exported.id}/download`, { credentials: "same-origin" });
    if (!linked.ok) throw new Error((await linked.json()).message || linked.statusText);
    const link = (await linked.json()).link;
    const anchor = document.createElement("a");
    anchor.href = new URL(link, window.location.href).pathname + new URL(link, window.location.href).search;
    anchor.download = `customers-${exported.id}.csv`;
    document.body.appendChild(anchor);
    anchor.click();
    anchor.remove();
    status.textContent = `Exported ${exported.total} ${exported.total === 1 ? "person" : "people"}: the file is downloading.`;
  } catch (error) {
    status.textContent = `The export failed: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector(".export");
  if (box) {
    box.querySelector("#export-csv").addEventListener("click", () => exportPeople(box));
  }
});

// Copy buttons (data-copy="ID"): the named field's text to the clipboard; without clipboard
// access (plain HTTP on another host), the text is selected for the user to copy.
document.addEventListener("click", async (event) => {
  const button = event.target.closest && event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  field.select();
  try {
    await navigator.clipboard.writeText(field.value);
    button.textContent = "Copied";
  } catch (error) {
    button.textContent = "Selected: press Ctrl+C";
  }
});
