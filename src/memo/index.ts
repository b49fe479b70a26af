export { Memo, deepFreeze } from './memo.js';
