/** The errors every client's transport throws; each client module exports them (`export *`). */
export {
  ConnectionError,
  CrossOriginRedirectError,
  InvalidResponseError,
  RequestTimeoutError,
  ResponseTooLargeError,
  TooManyRedirectsError,
  TransportError,
} from "./errors.js";
