export { startServer, SERVER_DEFAULTS, type ServerOptions, type SocketServer } from './server.js';
export {
  type ConnectionContext,
  type MessageHandler,
  type ProtocolErrorHandler,
  type ProtocolErrorKind,
} from './connection.js';
export { SocketInUseError, SocketPathError, checkSocketMode, prepareSocketPath } from './socket-file.js';
export { MessageReader, DEFAULT_MAX_MESSAGE_BYTES, type FrameEvent } from './framing.js';
