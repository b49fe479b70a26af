export { systemClock, type Clock, type Timer } from './clock.js';
