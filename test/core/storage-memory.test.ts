import { MemoryStorage } from '../../core/storage.ts'
import { storageContract } from '../storage.contract.ts'

storageContract('memory', async () => new MemoryStorage())
