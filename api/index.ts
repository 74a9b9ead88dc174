export { createApp, type AppDependencies } from './app';
export { PROBLEM_CONTENT_TYPE, type Problem } from './problem';
