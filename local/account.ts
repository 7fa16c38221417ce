/**
 * The one local AWS account every part of the local runtime speaks as: the emulators' fixed
 * account id and region, the ARNs the template reader resolves, the IAM gate's resources and
 * the credentials every local SDK client uses. Defined here once so the ARNs a function sees,
 * the ARNs its policy names and the ARNs fauxqs hands out agree.
 *
 * fauxqs always reports account 000000000000 and takes the region from the SigV4 header; a
 * resource created in another region is invisible from this one, so every client uses LOCAL_REGION.
 */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
/** Both emulators accept any credentials; fixed ones keep SDK clients from searching ~/.aws. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
