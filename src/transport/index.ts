export { startServer, type ServerOptions, type SocketServer } from './server.js';
export { TRANSPORT_DEFAULTS, type TransportLimits } from './limits.js';
export {
  type AcceptedConnection,
  type ConnectionContext,
  type ConnectionHandler,
  type MessageHandler,
  type Reply,
  type ProtocolErrorHandler,
  type ProtocolErrorKind,
} from './connection.js';
export { SocketInUseError, SocketPathError, checkSocketMode, prepareSocketPath } from './socket-file.js';
export { MessageReader, type FrameEvent } from './framing.js';
