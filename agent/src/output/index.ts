export * from './color.js';
export * from './logger.js';
export * from './printer.js';
export * from './writer.js';
