// The buyers tab: add and edit buyers, search, and each buyer's tracking link.
import { api, describe } from "../api.js";
import { $, ask, h, messageRow, notify, spinnerRow } from "../dom.js";
import { aside, labelled, t } from "../i18n.js";
import { compact, fail, flash, formData, loadPickers, shop } from "../app.js";
import { PagedList } from "../paged.js";
import { copyMessageButton } from "./buyer-message.js";
import { contactLabel, phoneText } from "../buyers.js";
import { closeCharges, openCharges } from "./charges.js";

const COLS = 6;
const list = new PagedList((page) => api.get("/customers", { q: $("#customer-q").value.trim(), ...page }));
const state = { editing: null };

export async function load(reset = true) {
  const body = $("#customers-body");
  if (reset) {
    list.clear();
    body.replaceChildren(spinnerRow(COLS, t("common.loading")));
  }
  try {
    await list.load(reset);
    render();
  } catch (err) {
    body.replaceChildren(messageRow(COLS, describe(err), "text-danger"));
  }
}

export function render() {
  const body = $("#customers-body");
  body.replaceChildren(...list.items.map(customerRow));
  $("#customers-more").classList.toggle("d-none", !list.more);
  if (!list.items.length) body.replaceChildren(messageRow(COLS, t("cust.empty")));
}

export function reset() {
  list.clear();
  closeCharges(); // a panel of the last seller's buyer
}

function customerRow(c) {
  return h(
    "tr",
    { dataset: { id: c.id } },
    h("td", { "data-label": t("cust.name") }, c.name, h("small", { class: "d-block text-muted buyer-contact" }, contactLabel(c))),
    h("td", { "data-label": t("cust.email") }, c.email || ""),
    h("td", { "data-label": t("cust.phone") }, phoneText(c.phone)),
    h("td", { "data-label": t("cust.social_col") }, [c.line_id && `LINE ${c.line_id}`, c.social].filter(Boolean).join(" · ")),
    h(
      "td",
      { "data-label": t("cust.link") },
      h(
        "div",
        { class: "d-flex flex-wrap gap-1" },
        h("button", { class: "btn btn-sm btn-outline-primary copy-link", type: "button", "aria-label": t("cust.copy_link_label", { name: c.name }), onclick: () => trackingLink(c, false) }, t("cust.copy_link")),
        h("button", { class: "btn btn-sm btn-outline-secondary new-link", type: "button", "aria-label": t("cust.new_link_label", { name: c.name }), onclick: () => trackingLink(c, true) }, t("cust.new_link")),
      ),
      " ",
      copyMessageButton({ customer_id: c.id, name: c.name }, $("#link-box"), "cust-message-text"),
    ),
    h(
      "td",
      { class: "text-nowrap" },
      h("button", { class: "btn btn-sm btn-link charges-open", type: "button", "aria-label": t("charge.open_label", { name: c.name }), onclick: () => openCharges(chargesBox(), c) }, t("charge.open")),
      h("button", { class: "btn btn-sm btn-link", type: "button", onclick: () => edit(c) }, t("common.edit")),
      h("button", { class: "btn btn-sm btn-link text-danger", type: "button", onclick: () => remove(c) }, t("common.delete")),
      h("button", { class: "btn btn-sm btn-link merge-open", type: "button", onclick: () => openMerge(c) }, t("cust.merge")),
    ),
  );
}

/** "Copy link" (GET: the buyer's current link, the same every time; nothing changes) or
 *  "New link" (asked first: every older link of the buyer stops working). The link is
 *  shown in #link-box and copied. */
async function trackingLink(c, renew) {
  if (renew && !(await ask(t("cust.new_link_ask", { name: c.name }), t("cust.new_link_yes"), t("common.cancel")))) return;
  const box = $("#link-box");
  box.replaceChildren(h("div", { class: "text-muted small mb-2" }, t("common.loading")));
  try {
    const path = `/customers/${c.id}/tracking-link`;
    const out = renew ? await api.post(path, undefined) : await api.get(path);
    // ?shop= lets the buyer ask for a fresh link from the same page if this one is rotated.
    const slug = shop.seller?.shop_slug;
    if (slug && !out.url.includes("?")) out.url = out.url.replace("#", `?shop=${encodeURIComponent(slug)}#`);
    const status = h("div", { class: "small mt-1 link-status" });
    const copy = h("button", { class: "btn btn-sm btn-outline-secondary link-copy", type: "button" }, t("cust.copy"));
    const write = async () => {
      try {
        await navigator.clipboard.writeText(out.url);
        status.textContent = t("cust.copied");
      } catch {
        // No clipboard (a permission, an old browser): select the link to copy by hand.
        window.getSelection().selectAllChildren(box.querySelector(".link-url"));
        status.textContent = t("cust.copy_failed");
      }
    };
    copy.addEventListener("click", write);
    const share = navigator.share
      ? h(
          "button",
          {
            class: "btn btn-sm btn-outline-secondary",
            type: "button",
            onclick: () => navigator.share({ title: t("cust.share_text", { shop: shop.seller?.shop_name || "" }), url: out.url }).catch(() => {}),
          },
          t("cust.share"),
        )
      : null;
    notify(
      box,
      renew ? "warning" : "info",
      h("div", { class: "small" }, t(renew ? "cust.link_new" : "cust.link_ready", { name: c.name })),
      h("a", { class: "link-url alert-link text-break", href: out.url, target: "_blank", rel: "noopener" }, out.url),
      h("div", { class: "d-flex gap-2 mt-2" }, copy, share),
      status,
      h("div", { class: "small text-muted mt-1" }, t("cust.link_hint")),
    );
    await write();
  } catch (err) {
    if (err.status !== 401) fail(box, err);
  }
}

function edit(c) {
  const form = $("#customer-form");
  for (const name of ["id", "name", "email", "phone", "line_id", "address", "social", "note"]) form.elements[name].value = c[name] || "";
  markFields(form, []);
  state.editing = c;
  form.elements.notify.checked = c.notify !== false;
  form.elements.notices_opt_out.checked = c.notices_opt_out === true;
  $("#customer-form-title").textContent = t("cust.edit");
  $("#customer-cancel").classList.remove("d-none");
  form.scrollIntoView({ behavior: "smooth" });
}

function resetForm() {
  const form = $("#customer-form");
  form.reset();
  markFields(form, []);
  form.elements.id.value = "";
  $("#customer-form-title").textContent = t("cust.add");
  $("#customer-cancel").classList.add("d-none");
}

const CONTACTS = ["email", "phone", "line_id"];

/** Mark the fields an answer names (`contact_required` names all three contacts). */
function markFields(form, names) {
  for (const el of form.elements) el.classList?.remove("is-invalid");
  for (const name of names) form.elements[name]?.classList.add("is-invalid");
}

function badFields(err) {
  if (err.code === "duplicate_email") return ["email"];
  return (err.details || []).flatMap((d) => (d.code === "contact_required" ? CONTACTS : [String(d.field || "").split(".")[0]]));
}

async function remove(c) {
  if (!confirm(`${labelled(t("common.delete"), c.name)}?`)) return;
  try {
    await api.del(`/customers/${c.id}`);
    await load(true);
    loadPickers();
  } catch (err) {
    if (err.status !== 401) flash("danger", describe(err));
  }
}

export function bind() {
  const form = $("#customer-form");
  $("#customer-cancel").addEventListener("click", resetForm);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const d = formData(form);
    const id = d.id;
    delete d.id;
    const box = $("#customer-form-msg");
    // A buyer is found by at least one of email, phone, LINE ID (the server says so too).
    if (!CONTACTS.some((k) => d[k])) {
      markFields(form, CONTACTS);
      notify(box, "danger", t("detail.contact_required"));
      return;
    }
    markFields(form, []);
    try {
      if (id) {
        // On edit an emptied optional field is cleared (null), not left as it was.
        // Fields that were empty and still are stay out (a buyer without email has none to clear).
        const had = state.editing?.id === id ? state.editing : {};
        const patch = Object.fromEntries(
          Object.entries(d)
            .filter(([k, v]) => v !== "" || had[k])
            .map(([k, v]) => [k, v === "" && k !== "name" ? null : v]),
        );
        await api.patch(`/customers/${id}`, patch);
      } else {
        await api.post("/customers", compact(d));
      }
      notify(box, "success", t("common.saved"));
      resetForm();
      await load(true);
      loadPickers();
    } catch (err) {
      if (err.status === 401) return;
      markFields(form, badFields(err));
      fail(box, err);
    }
  });
  let timer;
  $("#customer-q").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => load(true), 300);
  });
  $("#customers-more").addEventListener("click", () => load(false));
}

/** The charges panel, above the list (made on first use: the page's HTML has no slot). */
function chargesBox() {
  let box = $("#charges-box");
  if (!box) {
    box = h("div", { id: "charges-box" });
    $("#link-box").after(box);
  }
  return box;
}

// --- merging two buyers who are the same person (POST /customers/{id}/merge) ---------------

/** What tells two buyers of one name apart in a merge: all their contacts. */
function allContacts(c) {
  return [c.email, c.phone && phoneText(c.phone), c.line_id && `LINE ${c.line_id}`].filter(Boolean).join(" · ");
}

/** A buyer named so that two of one name are told apart: "林志明 (lin@example.com)". */
function whoIs(c) {
  const contact = allContacts(c);
  return contact ? aside(c.name, contact) : c.name;
}

/** The merge panel, above the list (made on first use: the page's HTML has no slot). */
function mergeBox() {
  let box = $("#merge-box");
  if (!box) {
    box = h("div", { id: "merge-box" });
    $("#link-box").after(box);
  }
  return box;
}

function closeMerge() {
  mergeBox().replaceChildren();
}

async function openMerge(into) {
  const box = mergeBox();
  const q = h("input", { class: "form-control form-control-sm", type: "search", value: into.name, "aria-label": t("cust.merge_search") });
  const choices = h("div", { class: "list-group merge-choices my-2", role: "radiogroup", "aria-label": t("cust.merge_pick") });
  const msg = h("div", { class: "merge-msg" });
  const go = h("button", { class: "btn btn-sm btn-danger merge-go", type: "button", disabled: true }, t("cust.merge_go"));
  const cancel = h("button", { class: "btn btn-sm btn-outline-secondary", type: "button", onclick: closeMerge }, t("common.cancel"));
  let chosen = null;
  const pick = (other) => {
    chosen = other;
    go.disabled = false;
    msg.replaceChildren(
      h("div", { class: "alert alert-warning small mb-2 merge-warning", role: "status" }, t("cust.merge_confirm", { from: whoIs(other), into: whoIs(into) })),
    );
    go.scrollIntoView({ block: "nearest" });
  };
  const search = async () => {
    chosen = null;
    go.disabled = true;
    msg.replaceChildren();
    choices.replaceChildren(h("div", { class: "text-muted small" }, t("common.loading")));
    try {
      const out = await api.get("/customers", { q: q.value.trim(), limit: 20 });
      const others = out.items.filter((o) => o.id !== into.id);
      // The same name first: the likely duplicates.
      others.sort((a, b) => (b.name === into.name) - (a.name === into.name));
      choices.replaceChildren(
        ...(others.length
          ? others.map((o) =>
              h(
                "label",
                { class: "list-group-item d-flex gap-2 align-items-start" },
                h("input", { class: "form-check-input mt-1 flex-shrink-0", type: "radio", name: "merge-from", value: o.id, onchange: () => pick(o) }),
                h("span", {}, h("span", { class: "fw-semibold" }, o.name), h("br"), h("span", { class: "small text-muted text-break" }, allContacts(o) || "—")),
              ),
            )
          : [h("div", { class: "text-muted small" }, t("cust.merge_none"))]),
      );
    } catch (err) {
      if (err.status !== 401) fail(msg, err);
    }
  };
  let timer;
  q.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 300);
  });
  go.addEventListener("click", async () => {
    if (!chosen) return;
    go.disabled = true;
    try {
      await api.post(`/customers/${into.id}/merge`, { from_customer_id: chosen.id });
      const done = t("cust.merged", { from: whoIs(chosen), into: whoIs(into) });
      closeMerge();
      notify(mergeBox(), "success", done);
      await load(true);
      loadPickers();
    } catch (err) {
      go.disabled = false;
      if (err.status !== 401) fail(msg, err);
    }
  });
  box.replaceChildren(
    h(
      "section",
      { class: "card card-body mb-3 merge-panel", "aria-labelledby": "merge-title" },
      h("h2", { class: "h6", id: "merge-title" }, t("cust.merge_title", { name: into.name })),
      h("p", { class: "small text-muted mb-2" }, t("cust.merge_help", { name: into.name })),
      q,
      choices,
      msg,
      h("div", { class: "d-flex flex-wrap gap-2" }, go, cancel),
    ),
  );
  box.scrollIntoView({ block: "start" });
  q.focus({ preventScroll: true });
  await search();
}
