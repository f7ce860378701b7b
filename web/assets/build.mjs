// Bundles the front-end into web/static/build (run by `make setup`; the output is never committed).
import * as esbuild from "esbuild";
import { mkdirSync } from "node:fs";

const outdir = "web/static/build";
mkdirSync(outdir, { recursive: true });

const fontLoaders = { ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file", ".svg": "file" };

await esbuild.build({
  entryPoints: [
    { in: "web/assets/app.js", out: "app" },
    { in: "web/assets/case-diagram.js", out: "case-diagram" },
    { in: "web/assets/heatmap.js", out: "heatmap" },
    { in: "web/assets/overleg.js", out: "overleg" },
    { in: "web/assets/style.css", out: "style" },
    // the process owners' modeller (bpmn-js Modeler + properties panel + bpmnlint + token simulation) and the
    // comparison page; modeller.css serves both
    { in: "web/assets/modeller/modeller.js", out: "modeller" },
    { in: "web/assets/modeller/modeller.css", out: "modeller" },
    { in: "web/assets/modeller/compare.js", out: "compare" },
  ],
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "esm",
  target: ["es2020"],
  outdir,
  loader: fontLoaders,
  assetNames: "assets/[name]-[hash]",
  logLevel: "warning",
});
console.log(`front-end bundled into ${outdir}`);
