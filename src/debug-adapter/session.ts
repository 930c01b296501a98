// The debug session VS Code talks to over DAP. The machine it will drive (src/emu/machine.ts)
// arrives with the emulator in issue 3; until then the adapter is honest about it: it
// answers `initialize` with the capabilities it really has (none beyond the defaults) and
// refuses `launch`/`attach` with a message that says why, instead of pretending to run.
import { DebugSession } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';

/** Shown to the user (DAP `showUser`) when a run or debug session is requested. */
export const MACHINE_NOT_BUILT =
  "VMX Lab's machine is not built yet: run/debug arrives with the emulator (issue 3).";

/** DAP error ids are free-form; this one is the adapter's only error so far. */
const ERROR_MACHINE_NOT_BUILT = 1001;

export class VmxLabDebugSession extends DebugSession {
  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {};
    this.sendResponse(response);
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse): void {
    this.refuse(response);
  }

  protected override attachRequest(response: DebugProtocol.AttachResponse): void {
    this.refuse(response);
  }

  private refuse(response: DebugProtocol.Response): void {
    // The default destination is the user: VS Code shows the message in a notification.
    this.sendErrorResponse(response, ERROR_MACHINE_NOT_BUILT, MACHINE_NOT_BUILT);
  }
}
