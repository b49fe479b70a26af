export { startServer, SERVER_DEFAULTS, type ServerOptions, type SocketServer } from './server.js';
export {
  type ConnectionContext,
  type ConnectionHandler,
  type MessageHandler,
  type Reply,
  type ProtocolErrorHandler,
  type ProtocolErrorKind,
} from './connection.js';
export { SocketInUseError, SocketPathError, checkSocketMode, prepareSocketPath } from './socket-file.js';
export { MessageReader, DEFAULT_MAX_MESSAGE_BYTES, type FrameEvent } from './framing.js';
