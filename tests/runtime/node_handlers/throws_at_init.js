console.log("starting");
throw new Error("no TABLE configured");
