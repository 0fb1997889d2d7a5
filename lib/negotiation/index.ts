export type { Command, Origin, Submission } from './command.ts';
export { parseBody, closestCommand, editDistance, HELP_TEXT, type Parsed, type ParseContext } from './parse.ts';
export { BUILD_HELP, NOT_A_BUILDER, keywordsOf } from './building.ts';
export { KeyedBuckets, RateMeter, TokenBucket, type Clock } from './rate-limit.ts';
export { xmlSafe, utf8Bytes } from './text.ts';
export { nickname, nickKey, RFC_8266, type Nickname, type NicknameProfile } from './nick.ts';
