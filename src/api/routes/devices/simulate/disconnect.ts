import { bridgeSwitchRoute } from '../../../bridge-switch.ts';

export default bridgeSwitchRoute(false);
