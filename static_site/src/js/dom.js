// Building DOM from data without innerHTML, so names and notes typed by users are never HTML.
import { t } from "./i18n.js";

/** h("td", {class: "x", dataset: {id}}, "text", childNode, ...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function $(sel, root = document) {
  return root.querySelector(sel);
}

export function $$(sel, root = document) {
  return [...root.querySelectorAll(sel)];
}

/** A one-cell row spanning the table: loading, empty and error states of a list. */
export function messageRow(cols, text, cls = "text-muted") {
  return h("tr", { class: "state-row" }, h("td", { colspan: String(cols), class: `text-center py-4 ${cls}` }, text));
}

export function spinnerRow(cols, text) {
  return h(
    "tr",
    { class: "state-row" },
    h(
      "td",
      { colspan: String(cols), class: "text-center py-4 text-muted" },
      h("span", { class: "spinner-border spinner-border-sm me-2", role: "status" }),
      text,
    ),
  );
}

/** Show a dismissable alert in a container (kind: success | danger | warning | info). */
export function notify(container, kind, ...content) {
  const alert = h(
    "div",
    { class: `alert alert-${kind} d-flex justify-content-between align-items-start py-2`, role: kind === "danger" ? "alert" : "status" },
    h("div", {}, ...content),
    h("button", { type: "button", class: "btn-close ms-2", "aria-label": t("common.close"), onclick: () => alert.remove() }),
  );
  container.replaceChildren(alert);
  return alert;
}

/**
 * Ask before something that cannot simply be taken back: a modal dialog with the message
 * and two buttons (the safe one focused). Resolves true when the seller confirms.
 */
export function ask(message, yes, no, { danger = true } = {}) {
  return new Promise((resolve) => {
    const dialog = h(
      "dialog",
      { class: "confirm-dialog", "aria-labelledby": "confirm-text" },
      h(
        "form",
        { method: "dialog" },
        h("p", { id: "confirm-text", class: "mb-3" }, message),
        h(
          "div",
          { class: "d-flex flex-wrap gap-2 justify-content-end" },
          h("button", { class: "btn btn-outline-secondary", value: "no", type: "submit", autofocus: true }, no),
          h("button", { class: `btn ${danger ? "btn-danger" : "btn-primary"}`, value: "yes", type: "submit" }, yes),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "yes");
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
