// The Node.js half of the fast provider load (see _provider_import.py, which preloads this file
// into the jsii kernel with `node --require`).
//
// When the kernel loads the AWS provider assembly it requires the package's lib/index.js, whose
// ~2,100 lines `exports.vpc = require("./vpc");` compile every resource module: about 2 s and
// 400 MB here, whatever the app uses. This hook compiles that one file with each such line turned
// into a getter, so a resource module is required the first time the kernel looks it up. The
// exported names, their order and their values are unchanged. Any other file, or an index.js
// whose lines do not have that shape, is compiled as it is (the load is then eager, never wrong).
"use strict";

const fs = require("fs");
const Module = require("module");

const PROVIDER_INDEX = /[\\/]@cdktf[\\/]provider-aws[\\/]lib[\\/]index\.js$/;
const EAGER_EXPORT = /^exports\.(\w+) = require\("(\.\/[\w-]+)"\);$/gm;
const LAZY_EXPORT =
  'Object.defineProperty(exports, "$1", { enumerable: true, configurable: true, get: () => require("$2") });';

const compileJavaScript = Module._extensions[".js"];

Module._extensions[".js"] = function compileProviderIndexLazily(module, filename) {
  if (!PROVIDER_INDEX.test(filename)) {
    return compileJavaScript(module, filename);
  }
  module._compile(fs.readFileSync(filename, "utf8").replace(EAGER_EXPORT, LAZY_EXPORT), filename);
};
