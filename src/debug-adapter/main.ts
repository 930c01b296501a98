// Entry point of dist/debug-adapter.js: a DAP server on stdin/stdout, the transport VS Code
// uses for an executable debug adapter.
import { DebugSession } from '@vscode/debugadapter';
import { VmxLabDebugSession } from './session';

DebugSession.run(VmxLabDebugSession);
