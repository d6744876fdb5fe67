// The few browser globals the page modules read when they load (i18n.js: the saved language
// and navigator.language; setLang: the document). Import this before any page module.
// PAGE_LANG=zh-Hant in the environment starts the modules in Chinese.
const saved = new Map(process.env.PAGE_LANG ? [["lang", process.env.PAGE_LANG]] : []);

globalThis.localStorage = {
  getItem: (k) => (saved.has(k) ? saved.get(k) : null),
  setItem: (k, v) => saved.set(k, String(v)),
  removeItem: (k) => saved.delete(k),
};
// Node 21+ has a read-only navigator of its own.
Object.defineProperty(globalThis, "navigator", { value: { language: "en-US", languages: ["en-US"] }, configurable: true });
globalThis.document = { documentElement: {}, querySelectorAll: () => [] };
process.env.TZ = "UTC";
