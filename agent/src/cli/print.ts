// Printers shared by several commands.
import type { DevSession } from '@dsa/api';
import { formatTable, toJson, toList, toYamlDocuments } from '../output/printer.js';
import { SUMMARY_HEADERS, summaryRow } from '../session/summary.js';
import type { CommandContext } from './context.js';

/** The deployed sessions on stdout: a table, or the objects with -o json|yaml (`deploy`, `up --exit-after-deploy`). */
export function printSessions(ctx: CommandContext, sessions: readonly DevSession[]): void {
  if (ctx.globals.output === 'json') ctx.stdout.write(toJson(toList(sessions)));
  else if (ctx.globals.output === 'yaml') ctx.stdout.write(toYamlDocuments(sessions));
  else ctx.stdout.write(formatTable(SUMMARY_HEADERS, sessions.map(summaryRow), ctx.stdoutColor));
}
