// The sign-in page works without script (a plain form post); this only wires the
// language and theme switches every page has.
import "./common.js";
