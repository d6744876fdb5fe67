// An item's photos on the Items tab: add them from a phone's camera or library or a
// laptop's files, see the upload's progress, remove one. The file goes straight to the
// storage (S3's presigned POST in AWS, the API's own route under `make run`); the API makes
// the small and medium images (without the photo's location) and lists them when ready.
import { api, describe } from "../api.js";
import { pickers } from "../app.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

export const TYPES = ["image/jpeg", "image/png", "image/webp"];
export const MAX_BYTES = 8 * 1024 * 1024;
export const MAX_PHOTOS = 8;
const WAIT_MS = 30000; // how long the page waits for the images before saying they come later

/** The item's first photo, small, for its row (nothing when it has none). */
export function thumb(item, size = 40) {
  const first = (item.photos || [])[0];
  if (!first) return null;
  return h("img", {
    class: "item-thumb rounded me-2",
    src: first.small_url,
    alt: t("item.photo_alt", { item: item.item_name }),
    width: String(size),
    height: String(size),
    loading: "lazy",
    decoding: "async",
  });
}

/** The thumbnail of an order's or a purchase-list row's item, from the items the page
 *  already loaded for its pickers (no request; an item beyond them shows none). */
export function thumbOf(itemId, itemName, size = 40) {
  const fold = (s) => String(s ?? "").normalize("NFKC").toLowerCase().trim();
  const item = pickers.items.find((i) => (itemId ? i.id === itemId : fold(i.item_name) === fold(itemName)));
  return item ? thumb(item, size) : null;
}

/** The "Photos (n)" button of a row; it opens the item's photo panel under the row. */
export function button(item, reload) {
  const n = (item.photos || []).length;
  return h(
    "button",
    {
      class: "btn btn-sm btn-link item-photos-btn",
      type: "button",
      "aria-expanded": "false",
      onclick: (ev) => toggle(ev.currentTarget, item, reload),
    },
    n ? t("item.photos_n", { n }) : t("item.photos"),
  );
}

function toggle(btn, item, reload) {
  const row = btn.closest("tr");
  const open = row.nextElementSibling?.classList.contains("item-photo-row");
  if (open) {
    row.nextElementSibling.remove();
    btn.setAttribute("aria-expanded", "false");
    return;
  }
  btn.setAttribute("aria-expanded", "true");
  row.after(h("tr", { class: "item-photo-row", dataset: { itemId: item.id } }, h("td", { colspan: "6" }, panel(item, reload))));
}

// The last message of an item's panel, shown again when the list is read anew (the panel
// is drawn again with the item's new photos).
let kept = null;

function panel(item, reload) {
  const msg = h("div", { class: "small item-photo-msg", role: "status", "aria-live": "polite" });
  if (kept?.itemId === item.id) say(msg, kept.kind, kept.text);
  kept = null;
  const bar = h("div", { class: "progress-bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" });
  const progress = h("div", { class: "progress my-2 d-none item-photo-progress", style: "height: 6px" }, bar);
  const photos = item.photos || [];
  const list = h(
    "div",
    { class: "d-flex flex-wrap gap-2 item-photo-list" },
    photos.length
      ? photos.map((p) =>
          h(
            "figure",
            { class: "m-0 text-center item-photo", dataset: { photoId: p.id } },
            h("img", { class: "rounded border", src: p.small_url, alt: t("item.photo_alt", { item: item.item_name }), width: "96", height: "96", loading: "lazy" }),
            h(
              "figcaption",
              {},
              h("button", { class: "btn btn-sm btn-link text-danger", type: "button", onclick: () => remove(item, p, msg, reload) }, t("item.photo_remove")),
            ),
          ),
        )
      : h("span", { class: "text-muted small" }, t("item.photo_none")),
  );
  const inputId = `item-photo-file-${item.id}`;
  const input = h("input", {
    class: "form-control form-control-sm",
    id: inputId,
    type: "file",
    accept: TYPES.join(","),
    multiple: true,
    disabled: photos.length >= MAX_PHOTOS,
  });
  input.addEventListener("change", async () => {
    const files = [...input.files];
    input.value = "";
    input.disabled = true;
    try {
      let added = 0;
      for (const file of files) added += (await addOne(item, file, { msg, progress, bar })) ? 1 : 0;
      if (added) await reload(item.id);
    } finally {
      input.disabled = false;
    }
  });
  return h(
    "div",
    { class: "py-2" },
    list,
    h("label", { class: "form-label small mt-2 mb-1", for: inputId }, t("item.photo_add")),
    input,
    h("div", { class: "form-text" }, t("item.photo_help")),
    progress,
    msg,
  );
}

function say(msg, kind, text) {
  msg.className = `small item-photo-msg text-${kind}`;
  msg.textContent = text;
  const itemId = msg.closest("tr")?.dataset.itemId;
  kept = itemId ? { itemId, kind, text } : null;
}

/** Check, upload and wait for one file; true when its images are ready. */
export async function addOne(item, file, { msg, progress, bar }) {
  const name = file.name || "photo";
  if (!TYPES.includes(file.type)) return say(msg, "danger", t("item.photo_type", { name })), false;
  if (file.size > MAX_BYTES) return say(msg, "danger", t("item.photo_too_big", { name })), false;
  if (file.size === 0) return say(msg, "danger", t("item.photo_failed", { name })), false;
  let started;
  try {
    started = await api.post(`/items/${item.id}/photos`, { content_type: file.type, size: file.size });
  } catch (err) {
    if (err.status !== 401) say(msg, "danger", describe(err));
    return false;
  }
  progress.classList.remove("d-none");
  const show = (pct) => {
    bar.style.width = `${pct}%`;
    bar.setAttribute("aria-valuenow", String(pct));
    say(msg, "muted", t("item.photo_uploading", { name, pct }));
  };
  show(0);
  const ok = await post(started.upload, file, show);
  if (!ok) {
    progress.classList.add("d-none");
    say(msg, "danger", t("item.photo_upload_failed", { name }));
    await api.del(`/items/${item.id}/photos/${started.photo_id}`).catch(() => {});
    return false;
  }
  say(msg, "muted", t("item.photo_processing"));
  const status = await ready(item.id, started.photo_id);
  progress.classList.add("d-none");
  if (status === "ready") say(msg, "success", t("item.photo_done"));
  else if (status === "failed") say(msg, "danger", t("item.photo_failed", { name }));
  else say(msg, "muted", t("item.photo_slow", { name }));
  return status === "ready";
}

/** The presigned POST: its fields first, the file last (S3 wants it so); XHR for progress. */
function post(upload, file, show) {
  return new Promise((resolve) => {
    const data = new FormData();
    for (const [k, v] of Object.entries(upload.fields)) data.append(k, v);
    data.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", upload.url);
    xhr.upload.addEventListener("progress", (ev) => {
      if (ev.lengthComputable) show(Math.round((100 * ev.loaded) / ev.total));
    });
    xhr.addEventListener("load", () => resolve(xhr.status >= 200 && xhr.status < 300));
    xhr.addEventListener("error", () => resolve(false));
    xhr.addEventListener("abort", () => resolve(false));
    xhr.send(data);
  });
}

/** Wait for the images (made by the storage's event in AWS): "ready", "failed" or "pending". */
async function ready(itemId, photoId) {
  const until = Date.now() + WAIT_MS;
  for (let wait = 300; Date.now() < until; wait = Math.min(wait * 1.5, 2000)) {
    try {
      const s = await api.get(`/items/${itemId}/photos/${photoId}`);
      if (s.status !== "pending") return s.status;
    } catch {
      return "pending";
    }
    await new Promise((r) => setTimeout(r, wait));
  }
  return "pending";
}

async function remove(item, photo, msg, reload) {
  try {
    await api.del(`/items/${item.id}/photos/${photo.id}`);
    await reload(item.id);
  } catch (err) {
    if (err.status !== 401) say(msg, "danger", describe(err));
  }
}
