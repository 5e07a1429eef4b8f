/** The environment at start: a `.env` file in the working directory, under the real environment. */
import { existsSync, readFileSync } from 'node:fs'
import { type Env, mergeEnv, parseDotenv } from './config.ts'

export function readEnvironment(real: Env, file = '.env'): Env {
	const dotenv = existsSync(file) ? parseDotenv(readFileSync(file, 'utf8')) : {}
	return mergeEnv(dotenv, real)
}
