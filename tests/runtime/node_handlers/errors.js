// Failures as the AWS documentation shows them.
exports.reference = async function () {
  return x + 10; // eslint-disable-line no-undef
};

exports.throwsString = async () => {
  throw "just a string";
};

exports.rejects = () => Promise.reject(new Error("rejected"));

exports.custom = async () => {
  const error = new Error("card declined");
  error.name = "PaymentError";
  error.code = "E42";
  throw error;
};

exports.unhandledRejection = async () => {
  Promise.reject(new Error("nobody awaited me"));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return "unreachable";
};

exports.unserialisable = async () => {
  const loop = {};
  loop.self = loop;
  return loop;
};

exports.exits = async () => {
  process.exit(3);
};

exports.notAFunction = 42;
