// Options and injected IO of the loader. Everything that touches the outside world (files, git,
// the terminal, the clock, randomness) comes in through here so tests need no mocks.
import type { GitDependencyFetcher } from './git-dependencies.js';

export type FileKind = 'file' | 'dir';

/** The loader's only view of the file system. `node-fs.ts` has the real one; tests pass a map. */
export interface FileReader {
  /** Text of a file; rejects (any error) when it cannot be read. */
  readFile(path: string): Promise<string>;
  /** 'file', 'dir', or undefined when nothing is there. */
  stat(path: string): Promise<FileKind | undefined>;
  /** Entry names of a directory (not paths); [] when it is not a directory. */
  readdir(path: string): Promise<string[]>;
}

export interface PromptOptions {
  /** The variable being asked for. */
  name: string;
  options?: string[];
  default?: string;
  password?: boolean;
}

export type Prompt = (question: string, opts: PromptOptions) => Promise<string>;

export interface LoadOptions {
  /** Path of the devspace.yaml (relative paths resolve against process.cwd()). */
  configPath: string;
  /** Profiles to apply, in order (`-p a -p b`); each one's `parent` chain is applied first. */
  profiles?: string[];
  /** `--var K=V` values: they win over everything else. */
  vars?: Record<string, string>;
  /** Environment for `${VAR}` lookups (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Whether stdin is a terminal: only then are missing variables asked for (default false). */
  isTTY?: boolean;
  /** Asks the user for a variable; only called when isTTY. */
  prompt?: Prompt;
  fs?: FileReader;
  /** Clock for DEVSPACE_TIMESTAMP (default: now). */
  now?: Date;
  /**
   * Check that referenced files exist (manifests, charts, Dockerfiles, valuesFiles, dependency
   * folders, exclude files) and expand manifest globs. Default true (the CLI). `false` loads a config
   * whose files are elsewhere (tests of DevSpace's published examples, `dsa render` of a bare file):
   * paths are still made absolute, globs stay unexpanded, missing dependency folders become warnings.
   */
  checkFiles?: boolean;
  /** Short commit of HEAD in `dir` (DEVSPACE_GIT_COMMIT); undefined when not a git checkout. */
  gitCommit?: (dir: string) => Promise<string | undefined>;
  /** OS user name for DEVSPACE_USERNAME (default os.userInfo().username). */
  username?: string;
  /** Namespace dsa will use, for DEVSPACE_NAMESPACE (unset → using it is an error). */
  namespace?: string;
  /** Randomness for DEVSPACE_RANDOM (default Math.random). */
  random?: () => number;
  /**
   * Fetches git dependencies (default: the `git` CLI into `~/.cache/dsa/dependencies`, see
   * git-dependencies.ts). With checkFiles off only the cache is consulted. `false`: git dependencies
   * are not loaded (a warning each).
   */
  gitDependencies?: GitDependencyFetcher | false;
  /**
   * What a secret-typed (`password`) variable becomes in the config: its value ('inline', the default), or the
   * placeholder `${dsa.secret.NAME}` with the value kept in ProjectConfig.secretVars ('placeholder') — for a
   * DevSession that must not carry it in plain text (docs/api/v1alpha1.md, "Secret variables").
   */
  secretVars?: 'inline' | 'placeholder';
}
