/** The button under a chat answer's offer to make paid media; the offer id follows. */
export const MAKE_MEDIA_PREFIX = 'media:make:';
