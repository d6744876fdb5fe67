// A buyer's charges (issue 26: money owed that is not an order line, e.g. 運費二補 after
// weighing, customs duty): the panel the Buyers tab and the buyers report open for one buyer.
// What the buyer owes in all (orders and open charges, the buyers report's outstanding), the
// list of charges with "Void" (asked first), and "Add charge".
import { api } from "../api.js";
import { ask, h, notify } from "../dom.js";
import { amountError, centsToNumber, date, money } from "../format.js";
import { lang, onChange as onLanguage, t } from "../i18n.js";
import { currency, fail } from "../app.js";
import { balanceCents, kindText, readAmount } from "../charges.js";
import { CHARGE_KINDS } from "../constants.js";

const COLS = 8;
const gap = () => (lang() === "zh-Hant" ? "" : " ");

/** A charge's state in words: voided, paid, partly paid or unpaid. */
function statusOf(c) {
  if (c.status === "void") return "void";
  if (balanceCents(c) === 0) return "paid";
  return Number(c.paid_amount) > 0 ? "partial" : "open";
}

const STATUS_CLASS = { open: "text-bg-warning", partial: "text-bg-info", paid: "text-bg-success", void: "text-bg-light border" };

/** Open the panel for `buyer` ({customer_id or id, name}) in `box`; `onChange` runs after a
 *  charge is added or voided (the buyers report reloads its outstanding amounts). */
export async function openCharges(box, buyer, { onChange, quiet = false } = {}) {
  shown = { box, buyer, onChange };
  const customerId = buyer.customer_id || buyer.id;
  const name = buyer.name || "";
  const state = { charges: null, summary: null, sending: false };
  const cur = () => currency();

  const msg = h("div", { class: "charges-msg", "aria-live": "polite" });
  const summary = h("p", { class: "mb-2 charges-owes" });
  const body = h("tbody");
  const kind = h("select", { class: "form-select", name: "kind" });
  const amount = h("input", { class: "form-control", name: "amount", inputmode: "decimal", autocomplete: "off", required: true });
  const note = h("input", { class: "form-control", name: "note", maxlength: "500", placeholder: t("common.optional") });
  const add = h("button", { class: "btn btn-primary charge-add", type: "submit" }, t("charge.add"));
  const fillKinds = () => {
    const chosen = kind.value || CHARGE_KINDS[0];
    kind.replaceChildren(...CHARGE_KINDS.map((k) => h("option", { value: k }, kindText(k))));
    kind.value = chosen;
  };
  fillKinds();

  const renderSummary = () => {
    const open = (state.charges || []).reduce((sum, c) => sum + balanceCents(c), 0);
    // The report's outstanding counts orders and open charges (the server's); a buyer with
    // no orders has no row there, so then the charges alone.
    const owes = state.summary ? state.summary.outstanding_amount : centsToNumber(open);
    const credit = Number(state.summary?.credit_amount || 0);
    summary.replaceChildren(
      h(
        "span",
        {},
        h("strong", {}, t("charge.owes", { amount: money(owes, cur()) })),
        credit > 0 ? h("span", { class: "ms-2 text-success charges-credit" }, t("charge.credit", { amount: money(credit, cur()) })) : null,
        // Credit and debts together: automatic credit passed these over (held from credit).
        credit > 0 && Number(owes) > 0 ? useAllButton(credit) : null,
      ),
    );
  };

  const useAllButton = (credit) =>
    h(
      "button",
      {
        class: "btn btn-sm btn-outline-primary ms-2 use-credit-all",
        type: "button",
        "aria-label": t("held.use_all_label", { name }),
        onclick: async (ev) => {
          const btn = ev.currentTarget;
          if (!(await ask(t("held.use_all_ask", { name, amount: money(credit, cur()) }), t("held.use_all_yes"), t("held.use_all_no"), { danger: false }))) return;
          btn.disabled = true;
          try {
            const r = await api.post("/payments/use-credit", { customer_id: customerId });
            const what = { name, used: money(r.used, cur()), left: money(r.credit, cur()) };
            notify(msg, Number(r.used) > 0 ? "success" : "info", Number(r.used) > 0 ? t("held.used_all", what) : t("held.none_used"));
            await load();
            onChange?.();
          } catch (err) {
            if (err.status !== 401) fail(msg, err);
            btn.disabled = false;
          }
        },
      },
      t("held.use_all"),
    );

  const row = (c) => {
    const status = statusOf(c);
    return h(
      "tr",
      { class: `charge-row ${status === "void" ? "text-muted" : ""}`, dataset: { id: c.id, status, kind: c.kind } },
      h("td", { "data-label": t("charge.kind") }, kindText(c.kind), h("small", { class: "d-block text-muted" }, date(c.created_at))),
      h("td", { class: "text-end text-nowrap", "data-label": t("charge.amount") }, h("span", { class: status === "void" ? "text-decoration-line-through" : "" }, money(c.amount, cur()))),
      h("td", { class: "text-end text-nowrap charge-paid", "data-label": t("charge.paid") }, money(c.paid_amount ?? 0, cur())),
      h("td", { class: "text-end text-nowrap fw-semibold charge-balance", "data-label": t("charge.balance") }, money(centsToNumber(balanceCents(c)), cur())),
      h("td", { class: `text-break charge-note ${c.note ? "" : "cell-empty"}`, "data-label": t("charge.note") }, c.note || ""),
      h("td", { class: `charge-parcel ${c.parcel_no ? "" : "cell-empty"}`, "data-label": t("charge.parcel") }, c.parcel_no ? t("charge.parcel_no", { no: c.parcel_no }) : ""),
      h("td", { "data-label": t("charge.status") }, h("span", { class: `badge charge-status ${STATUS_CLASS[status]}` }, t(`charge.status.${status}`))),
      h(
        "td",
        { class: "cell-actions text-end" },
        status === "void"
          ? null
          : h("button", { class: "btn btn-sm btn-outline-danger charge-void", type: "button", "aria-label": t("charge.void_label", { kind: kindText(c.kind), amount: money(c.amount, cur()) }), onclick: () => voidCharge(c) }, t("charge.void")),
      ),
    );
  };

  const renderList = () => {
    if (!state.charges) return;
    const rows = state.charges.map(row);
    body.replaceChildren(...(rows.length ? rows : [h("tr", { class: "state-row" }, h("td", { colspan: String(COLS), class: "text-center py-3 text-muted" }, t("charge.empty")))]));
    renderSummary();
  };

  const load = async () => {
    try {
      const [page, report] = await Promise.all([api.get("/charges", { customer_id: customerId, limit: 200 }), api.get("/reports/buyers")]);
      state.charges = Array.isArray(page) ? page : page.items || [];
      // Newest first, as the payments list: the charge just added is at the top.
      state.charges.sort((a, b) => String(b.created_at || "").localeCompare(String(a.created_at || "")));
      state.summary = (report.rows || []).find((r) => r.customer_id === customerId) || null;
      renderList();
    } catch (err) {
      if (err.status !== 401) fail(msg, err);
    }
  };

  async function voidCharge(c) {
    const what = { kind: kindText(c.kind), amount: money(c.amount, cur()), name };
    if (!(await ask(t("charge.void_ask", what), t("charge.void_yes"), t("charge.void_no")))) return;
    for (const btn of box.querySelectorAll(`tr[data-id="${c.id}"] button`)) btn.disabled = true;
    try {
      await api.post(`/charges/${c.id}/void`, undefined);
      notify(msg, "success", t("charge.voided", what));
      await load();
      onChange?.();
    } catch (err) {
      if (err.status !== 401) fail(msg, err);
      await load();
    }
  }

  const form = h(
    "form",
    {
      class: "row g-2 align-items-end charge-form mb-3",
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        if (state.sending) return; // a double tap adds one charge
        const cents = readAmount(amount.value, currency());
        if (cents === null) {
          amount.classList.add("is-invalid");
          notify(msg, "danger", amountError(amount.value, currency(), t("charge.amount"), "not_positive"));
          amount.focus();
          return;
        }
        amount.classList.remove("is-invalid");
        const payload = { customer_id: customerId, kind: kind.value, amount: centsToNumber(cents) };
        if (note.value.trim()) payload.note = note.value.trim();
        state.sending = true;
        add.disabled = true;
        try {
          const c = await api.post("/charges", payload);
          const parts = [t("charge.added", { kind: kindText(c.kind), amount: money(c.amount, cur()), name })];
          if (Number(c.paid_amount) > 0) parts.push(t("charge.paid_by_credit", { amount: money(c.paid_amount, cur()) }));
          notify(msg, "success", parts.join(gap()));
          amount.value = "";
          note.value = "";
          await load();
          onChange?.();
        } catch (err) {
          if (err.status === 401) return;
          for (const d of err.details || []) (d.field === "amount" ? amount : d.field === "note" ? note : d.field === "kind" ? kind : null)?.classList.add("is-invalid");
          fail(msg, err);
        } finally {
          state.sending = false;
          add.disabled = false;
        }
      },
    },
    h("div", { class: "col-6 col-md-3" }, h("label", { class: "form-label mb-0 w-100" }, h("span", {}, t("charge.kind")), kind)),
    h("div", { class: "col-6 col-md-2" }, h("label", { class: "form-label mb-0 w-100" }, h("span", {}, t("charge.amount")), amount)),
    h("div", { class: "col-12 col-md-5" }, h("label", { class: "form-label mb-0 w-100" }, h("span", {}, t("charge.note")), note)),
    h("div", { class: "col-12 col-md-2 d-grid" }, add),
  );
  for (const input of [amount, note, kind]) input.addEventListener("input", () => input.classList.remove("is-invalid"));

  const titleId = `charges-title-${customerId}`;
  box.replaceChildren(
    h(
      "section",
      { class: "card card-body mb-3 charges-panel", "aria-labelledby": titleId, dataset: { customerId } },
      h(
        "div",
        { class: "d-flex align-items-start gap-2" },
        h("h2", { class: "h6 me-auto mb-1", id: titleId }, t("charge.title", { name })),
        h("button", { class: "btn-close charges-close", type: "button", "aria-label": t("common.close"), onclick: closeCharges }),
      ),
      h("p", { class: "small text-muted mb-2" }, t("charge.help")),
      summary,
      form,
      msg,
      h(
        "div",
        { class: "table-responsive bg-white rounded border" },
        h(
          "table",
          { class: "table table-sm align-middle mb-0 stack charges-table" },
          h(
            "thead",
            { class: "table-light" },
            h(
              "tr",
              {},
              h("th", {}, t("charge.kind")),
              h("th", { class: "text-end" }, t("charge.amount")),
              h("th", { class: "text-end" }, t("charge.paid")),
              h("th", { class: "text-end" }, t("charge.balance")),
              h("th", {}, t("charge.note")),
              h("th", {}, t("charge.parcel")),
              h("th", {}, t("charge.status")),
              h("th", {}, h("span", { class: "visually-hidden" }, t("pay.actions"))),
            ),
          ),
          body,
        ),
      ),
    ),
  );
  body.replaceChildren(h("tr", { class: "state-row" }, h("td", { colspan: String(COLS), class: "text-center py-3 text-muted" }, h("span", { class: "spinner-border spinner-border-sm me-2", role: "status" }), t("common.loading"))));
  if (!quiet) {
    box.scrollIntoView({ block: "start" });
    amount.focus({ preventScroll: true });
  }
  await load();
}

let shown = null; // the open panel: {box, buyer, onChange}

export function closeCharges() {
  shown?.box.replaceChildren();
  shown = null;
}

/** The open panel again in the page's language. */
onLanguage(() => {
  if (shown?.box.isConnected && shown.box.firstChild) openCharges(shown.box, shown.buyer, { onChange: shown.onChange, quiet: true });
});
