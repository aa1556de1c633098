/**
 * Temporary: the answers moved to protocol/answers/ (issue 15). Only src/proxy still imports
 * this path; its owner's branch (wip-proxy) is in flight, so the merge switches that import to
 * ./answers/answerFor.js and deletes this file.
 */
export { answerFor } from "./answers/answerFor.js";
