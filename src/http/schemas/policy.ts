/** The tenant policy in responses: the policy's own zod schema (src/domain/policy.ts), with its version. */
import { z } from 'zod';
import { policySchema } from '../../domain/policy.js';

export const policyOut = z.object({ version: z.number().describe('0: the defaults, never saved'), policy: policySchema });
