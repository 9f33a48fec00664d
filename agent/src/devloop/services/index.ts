// The services of `dsa up`, in definition order: started as their waits allow, stopped in reverse
// (so the heartbeat, first here, detaches last). Register a new service by adding it here.
import { syncService, type SyncServiceOptions } from '../../sync/sync-service.js';
import type { DevServiceDefinition } from '../service.js';
import { heartbeatService } from './heartbeat.js';
import { logsService } from './logs.js';
import { portsService } from './ports.js';
import { terminalService } from './terminal.js';

export function defaultDevServices(sync: SyncServiceOptions = {}): DevServiceDefinition[] {
  return [heartbeatService(), portsService, syncService(sync), logsService(), terminalService];
}
