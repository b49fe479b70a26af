// The real actions. Each command's module is loaded only when that command runs, so `call` and
// `status` start without loading the daemon, the logger or the schema compiler.
import type { Actions } from './program.js';

export const actions: Actions = {
  serve: async (request) => (await import('./commands/serve.js')).serve(request),
  demo: async (request) => (await import('./commands/demo.js')).demo(request),
  call: async (request) => (await import('./commands/call.js')).call(request),
  // Every command that only reads from the daemon comes as a view; each has its own module.
  view: async (request) => {
    switch (request.view) {
      case 'nova-config':
        return (await import('./commands/nova-config.js')).novaConfig(request);
      case 'watch':
        return (await import('./commands/watch.js')).watch(request);
      default:
        return (await import('./commands/view.js')).view(request);
    }
  },
  schema: async (outDir) => (await import('./commands/schema.js')).schema(outDir),
  checkPool: async (request) => (await import('./commands/check-pool.js')).checkPool(request),
};
