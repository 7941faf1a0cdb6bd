/** Small helpers every method folder uses. */
import { z } from 'zod';

/** Strips the spaces, dashes and dots people type into codes (NFKC folds full-width and other digit forms). */
export const normalizeCode = (raw: string): string => raw.normalize('NFKC').replace(/[\s\-.]/g, '');

/** The answer of the code-typing methods. */
export const codeAnswer = z.object({ code: z.string().min(1).max(64) });
export type CodeAnswer = z.infer<typeof codeAnswer>;
