// An ES module handler (.mjs), with top-level await.
const loadedAt = await Promise.resolve("init");

export const handler = async (event) => ({ style: "esm", loadedAt, n: event.n });
