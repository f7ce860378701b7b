import ZvhPropertiesProvider from "./provider.js";

export default {
  __init__: ["zvhPropertiesProvider"],
  zvhPropertiesProvider: ["type", ZvhPropertiesProvider],
};
