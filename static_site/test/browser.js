// The few browser globals the page modules read when they load (i18n.js: the saved language
// and navigator.language; setLang: the document). Import this before any page module.
// The page starts in English (nothing saved, an English browser); tests switch with setLang.
const saved = new Map();

globalThis.localStorage = {
  getItem: (k) => (saved.has(k) ? saved.get(k) : null),
  setItem: (k, v) => saved.set(k, String(v)),
  removeItem: (k) => saved.delete(k),
};
// Node 21+ has a read-only navigator of its own.
Object.defineProperty(globalThis, "navigator", { value: { language: "en-US", languages: ["en-US"] }, configurable: true });
globalThis.document = { documentElement: {}, querySelectorAll: () => [] };
// Timestamps shown in local time: the same on every machine.
process.env.TZ = "UTC";
