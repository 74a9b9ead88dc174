export { createApp, type AppDependencies, type ApiDependencies } from './app';
export { PROBLEM_CONTENT_TYPE, type Problem } from './problem';
export * from './auth';
