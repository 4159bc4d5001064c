// A .js file under a package.json with "type": "module" loads as an ES module.
export const handler = async () => ({ style: "type-module", isModule: typeof require === "undefined" });
