import { Option } from 'commander';

/** Build/deploy flags shared by `up` and `deploy` (DevSpace's names and short flags). */
export interface BuildFlags {
  forceBuild?: boolean;
  forceDeploy?: boolean;
  buildSequential?: boolean;
  skipBuild?: boolean;
}

export const buildOptions = (): Option[] => [
  new Option('-b, --force-build', 'rebuild images even if the content-addressed tag already exists'),
  new Option('-d, --force-deploy', 'redeploy even if nothing changed'),
  new Option('--build-sequential', 'build images one after another instead of in parallel'),
  new Option('--skip-build', 'do not build; deploy with the images that exist'),
];

/**
 * Container selection for `enter` and `logs`. DevSpace uses `-p` for `--profile` globally, and so do
 * we, so the interactive picker is the long flag `--pick` only (see docs/cli.md).
 */
export interface PodFlags {
  container?: string;
  pick?: boolean;
  pod?: string;
  labelSelector?: string;
  imageSelector?: string;
}

export const podOptions = (): Option[] => [
  new Option('-c, --container <name>', 'container to use (default: the dev pod\'s container)'),
  new Option('--pick', 'choose the pod and container interactively'),
  new Option('--pod <name>', 'pod to use'),
  new Option('-l, --label-selector <selector>', 'select the pod by labels, e.g. app=api'),
  new Option('--image-selector <image>', 'select the pod by image'),
];
