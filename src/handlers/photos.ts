import { readUpload } from '../api/multipart.js';
import { photoEditorOf } from '../api/photo-guards.js';
import { principalOf } from '../api/principal.js';
import type { Handler } from '../api/types.js';
import {
  assertMayEdit,
  deleteCarPhoto,
  getCarPhotos as readCarPhotos,
  reorderCarPhotos as reorder,
  updateCarPhoto as update,
  uploadPhoto,
} from '../usecases/photos.js';

/** Public like the car: its photos in order, the cover first. */
const getCarPhotos: Handler<'getCarPhotos'> = async ({ params, req, deps }) => {
  const photos = await readCarPhotos(deps, params.car_id, principalOf(req));
  return { status: 200, body: { success: true, photos: [...photos] } };
};

const uploadCarPhoto: Handler<'uploadCarPhoto'> = async ({ params, req, deps, log }) => {
  const editor = photoEditorOf(req);
  // The connection closing before the answer is written: the client hung up.
  let hungUp = false;
  req.res?.once('close', () => {
    hungUp = !req.res?.writableFinished;
  });
  await assertMayEdit(deps, params.car_id, editor);
  const upload = await readUpload(req, { field: 'photo', maxBytes: deps.config.PHOTO_MAX_BYTES });
  try {
    const photo = await uploadPhoto(deps, log, {
      carId: params.car_id,
      editor,
      file: upload.file,
      fields: upload.fields,
      abandoned: () => hungUp,
    });
    return { status: 201, body: { success: true, photo } };
  } finally {
    await upload.discard();
  }
};

const reorderCarPhotos: Handler<'reorderCarPhotos'> = async ({ params, body, req, deps }) => {
  const photos = await reorder(deps, params.car_id, photoEditorOf(req), body.photo_ids);
  return { status: 200, body: { success: true, photos: [...photos] } };
};

const updateCarPhoto: Handler<'updateCarPhoto'> = async ({ params, body, req, deps }) => {
  const photo = await update(deps, params.car_id, params.photo_id, photoEditorOf(req), body);
  return { status: 200, body: { success: true, photo } };
};

const deleteCarPhotoHandler: Handler<'deleteCarPhoto'> = async ({ params, req, deps, log }) => {
  await deleteCarPhoto(deps, log, params.car_id, params.photo_id, photoEditorOf(req));
  return { status: 204, body: undefined };
};

export const photoHandlers = {
  getCarPhotos,
  uploadCarPhoto,
  reorderCarPhotos,
  updateCarPhoto,
  deleteCarPhoto: deleteCarPhotoHandler,
};
