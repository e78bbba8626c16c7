/** ReferenceKvIndex: the shared contract (the differential test then holds KvBlockIndex to it). */
import { describeKvIndexContract } from './contract.js';
import { ReferenceKvIndex } from './reference.js';

describeKvIndexContract('reference', (opts) => new ReferenceKvIndex(opts));
