/**
 * Entry point of `npx cdk synth|deploy` (cdk.json runs it with tsx). Configuration comes from
 * context; the README ("Deploy to AWS") lists the keys and their defaults.
 */
import { createOriginSyncApp } from './originSyncApp.js';

createOriginSyncApp().app.synth();
