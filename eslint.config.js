// ESLint over the site's browser modules and their node --test unit tests (`make test` runs it).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["static_site/dist/**", "node_modules/**", ".venv/**", ".cache/**", "dist/**"] },
  js.configs.recommended,
  {
    files: ["static_site/src/js/**/*.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: globals.browser },
  },
  {
    files: ["static_site/test/**/*.js", "eslint.config.js"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module", globals: { ...globals.node } },
  },
];
