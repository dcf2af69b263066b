// Builds dist/: the hand-written pages and ES modules of src/ as they are, plus the dist
// files of the npm packages (plotly.js, Swagger UI) under dist/vendor/. No bundler: the
// pages load these files from the same origin, so they work offline and need no CDN.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const modules = join(here, "node_modules");
const vendor = {
  "plotly.js-dist-min": ["plotly.min.js", "LICENSE"],
  "swagger-ui-dist": ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"],
};

rmSync(dist, { recursive: true, force: true });
cpSync(join(here, "src"), dist, { recursive: true });
for (const [pkg, files] of Object.entries(vendor)) {
  mkdirSync(join(dist, "vendor", pkg), { recursive: true });
  for (const file of files) {
    cpSync(join(modules, pkg, file), join(dist, "vendor", pkg, file));
  }
}
console.log(`portal built in ${dist}`);
