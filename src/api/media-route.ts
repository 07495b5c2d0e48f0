import { pipeline } from 'node:stream/promises';
import type { NextFunction, Request, Response } from 'express';
import { ApiError } from '../errors.js';
import { contentTypeOfKey } from '../domain/image-limits.js';
import type { Storage } from '../storage/index.js';

/**
 * GET/HEAD /media/<object name>: the disk store's photos. An object never changes under its
 * name, so browsers and CDNs may keep it for a year without asking again. The frontend's
 * pages are on another origin: helmet's `Cross-Origin-Resource-Policy: same-origin` would
 * make browsers refuse the images, so these answers say `cross-origin`. Only names of the
 * application's own form are looked up (no path traversal); anything else is 404.
 */
export function mediaRoute(storage: Storage) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next(new ApiError(405, 'method_not_allowed', `${req.method} is not allowed on /media`));
      return;
    }
    const key = req.path.replace(/^\//, '');
    const contentType = contentTypeOfKey(key);
    const missing = () => new ApiError(404, 'route_not_found', `No route for ${req.method} /media/${key}`);
    if (!contentType) {
      next(missing());
      return;
    }
    storage
      .getStream(key)
      .then(async (stream) => {
        if (!stream) throw missing();
        res.status(200);
        res.setHeader('Content-Type', contentType);
        res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
        res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
        if (req.method === 'HEAD') {
          stream.destroy();
          res.end();
          return;
        }
        await pipeline(stream, res);
      })
      .catch((error: unknown) => {
        if (!res.headersSent) next(error);
        else res.destroy();
      });
  };
}
