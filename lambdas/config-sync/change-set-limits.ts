/**
 * How much one publish request may carry, in a module of their own: the publish path, the
 * OpenAPI document and the operator CLI (which splits a long list into sets within them) read
 * the same two numbers.
 */

/**
 * The most changes one request may carry. A change set is committed in one DynamoDB
 * transaction (at most 100 items and 4 MB; events are packed into items of up to 300 KB), so
 * both bounds below keep it well inside; 1,000 covers a GeoServer reload of a large catalog
 * in a few requests.
 */
export const MAX_CHANGE_SET_ITEMS = 1000;
/** The most JSON one change-set request may carry (413 beyond, before it is parsed). */
export const MAX_CHANGE_SET_BYTES = 3 * 1024 * 1024;
