// The buyers tab: add and edit buyers, search, and each buyer's tracking link.
import { api, describe } from "../api.js";
import { $, h, messageRow, notify, spinnerRow } from "../dom.js";
import { t } from "../i18n.js";
import { compact, fail, flash, formData, loadPickers, shop } from "../app.js";
import { PagedList } from "../paged.js";
import { contactLabel, phoneText } from "../buyers.js";

const COLS = 6;
const list = new PagedList((page) => api.get("/customers", { q: $("#customer-q").value.trim(), ...page }));
const state = { links: new Map(), editing: null };

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
  state.links.clear();
}

function customerRow(c) {
  const hasLink = state.links.has(c.id);
  return h(
    "tr",
    { dataset: { id: c.id } },
    h("td", { "data-label": t("cust.name") }, c.name, h("small", { class: "d-block text-muted buyer-contact" }, contactLabel(c))),
    h("td", { "data-label": t("cust.email") }, c.email || ""),
    h("td", { "data-label": t("cust.phone") }, phoneText(c.phone)),
    h("td", { "data-label": t("cust.social") }, [c.line_id && `LINE ${c.line_id}`, c.social].filter(Boolean).join(" · ")),
    h(
      "td",
      { "data-label": t("cust.link") },
      h(
        "button",
        { class: "btn btn-sm btn-outline-primary get-link", type: "button", title: t("cust.link_hint"), onclick: () => trackingLink(c) },
        t(hasLink ? "cust.rotate" : "cust.new_link"),
      ),
    ),
    h(
      "td",
      { class: "text-nowrap" },
      h("button", { class: "btn btn-sm btn-link", type: "button", onclick: () => edit(c) }, t("common.edit")),
      h("button", { class: "btn btn-sm btn-link text-danger", type: "button", onclick: () => remove(c) }, t("common.delete")),
    ),
  );
}

async function trackingLink(c) {
  if (state.links.has(c.id) && !confirm(t("cust.rotate_confirm", { name: c.name }))) return;
  const box = $("#link-box");
  box.replaceChildren(h("div", { class: "text-muted small mb-2" }, t("common.loading")));
  try {
    const out = await api.post(`/customers/${c.id}/tracking-link`, undefined);
    // ?shop= lets the buyer ask for a fresh link from the same page if this one is rotated.
    const slug = shop.seller?.shop_slug;
    if (slug && !out.url.includes("?")) out.url = out.url.replace("#", `?shop=${encodeURIComponent(slug)}#`);
    state.links.set(c.id, out.url);
    const copy = h("button", { class: "btn btn-sm btn-outline-secondary", type: "button" }, t("cust.copy"));
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(out.url);
        copy.textContent = t("cust.copied");
      } catch {
        window.getSelection().selectAllChildren(box.querySelector(".link-url"));
      }
    });
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
      "info",
      h("div", { class: "small" }, t("cust.link_ready", { name: c.name })),
      h("a", { class: "link-url", href: out.url, target: "_blank", rel: "noopener" }, out.url),
      h("div", { class: "d-flex gap-2 mt-2" }, copy, share),
    );
    $(`#customers-body tr[data-id="${c.id}"] .get-link`).textContent = t("cust.rotate");
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
  if (!confirm(`${t("common.delete")}: ${c.name}?`)) return;
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
