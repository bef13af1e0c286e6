/**
 * syncwire/machine: the sync store's pure state machine, for those who build their own
 * runtime on it (a store for another transport, a simulator, a visualiser). The store in the
 * core entry runs on exactly this machine; nothing here has side effects or timers of its own:
 * `transition` returns the next state and the effects (as data) for the runtime to carry out.
 */
export { backoffDelay } from './clock';
export {
  transition,
  initialMachineState,
  TIMER_NAMES,
  type SyncMode,
  type MachineState,
  type MachineEvent,
  type Effect,
  type Timing,
  type TimerName,
  type PushIn,
} from './store/machine';
