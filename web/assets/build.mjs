// Bundles the front-end into web/static/build (run by `make setup`; the output is never committed).
import * as esbuild from "esbuild";
import { mkdirSync } from "node:fs";

const outdir = "web/static/build";
mkdirSync(outdir, { recursive: true });

const fontLoaders = { ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file", ".svg": "file" };

await esbuild.build({
  entryPoints: {
    app: "web/assets/app.js",
    "case-diagram": "web/assets/case-diagram.js",
    heatmap: "web/assets/heatmap.js",
    style: "web/assets/style.css",
  },
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
