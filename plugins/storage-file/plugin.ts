/** Local files (the default): one JSON file per kind of state in CREDENTIALS_DIR, written atomically. */
import { spec, str } from '../../core/config.ts'
import { defineStorage } from '../../core/plugin.ts'
import { createFileStorage } from './file-storage.ts'

export const plugin = defineStorage({
	name: 'storage-file',
	description: 'state in local JSON files (temp file + fsync + rename); the default',
	priority: 100,
	shared: false,
	settings: { dir: spec('CREDENTIALS_DIR', str, './creds', 'file storage directory (the default backend)') },
	configured: () => true,
	open: (s, { now }) => createFileStorage({ dir: s.dir, now }),
})
